import type { ProcessingConfig } from "../config";
import { mockProcessor } from "./mock";
import { streamProcessor } from "./stream";
import type { Processor } from "./processor";
import { webIfcProcessor } from "./web-ifc";

/** The one place that turns validated config into a processor adapter. */
export function selectProcessor(config: ProcessingConfig): Processor {
  switch (config.processor) {
    case "stream":
      return streamProcessor();
    case "mock":
      return mockProcessor(config.mock);
    case "web-ifc":
      return webIfcProcessor(config.memoryBytes);
  }
}
