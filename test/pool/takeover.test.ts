// Pool takeover on one redis-server (the suite: takeover.suite.ts).
import { takeoverSuite } from "./takeover.suite.js";

takeoverSuite("single");
