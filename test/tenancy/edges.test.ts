// Quotas across three edges on one redis-server (the suite: edges.suite.ts).
import { edgesSuite } from "./edges.suite.js";

edgesSuite("single");
