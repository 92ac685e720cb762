// The whole path with real parts on a 3-master Redis Cluster (the suite: test/e2e/full-path.suite.ts):
// request meta and queue on different masters, streams read per master, cancel by sharded pub/sub.
import { fullPathSuite } from "../e2e/full-path.suite.js";

fullPathSuite("cluster");
