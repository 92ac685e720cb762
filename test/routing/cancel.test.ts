// Cancellation to the worker on one redis-server (the suite: cancel.suite.ts).
import { cancelSuite } from "./cancel.suite.js";

cancelSuite("single");
