// Quotas across three edges on a Redis Cluster (the suite: test/tenancy/edges.suite.ts):
// admit/settle run in each tenant's slot; the admin API writes across slots in ordered steps.
import { edgesSuite } from "../tenancy/edges.suite.js";

edgesSuite("cluster");
