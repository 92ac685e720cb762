// The whole path with real parts on one redis-server (the suite: full-path.suite.ts).
import { fullPathSuite } from "./full-path.suite.js";

fullPathSuite("single");
