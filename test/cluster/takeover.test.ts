// Pool takeover on a Redis Cluster (the suite: test/pool/takeover.suite.ts): the queue,
// the leases and each response stream sit on different masters.
import { takeoverSuite } from "../pool/takeover.suite.js";

takeoverSuite("cluster");
