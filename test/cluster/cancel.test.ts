// Cancellation to the worker on a Redis Cluster (the suite: test/routing/cancel.suite.ts):
// the cancel message goes to the owning pool's shard channel.
import { cancelSuite } from "../routing/cancel.suite.js";

cancelSuite("cluster");
