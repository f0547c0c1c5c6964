import { type Logger, logDependencyCall } from "../lib/log";
import type { MultipartSessions, ObjectStorage } from "./object-storage";

/** Wraps any adapter so that every storage call leaves one log line with its duration and outcome. */
export function loggedStorage(storage: ObjectStorage, log: Logger): ObjectStorage {
  const component = `storage:${storage.driver}`;
  const multipart = storage.multipart;
  return {
    driver: storage.driver,
    put: (key, body, options) => logDependencyCall(log, component, "put", () => storage.put(key, body, options)),
    get: (key, range, options) => logDependencyCall(log, component, "get", () => storage.get(key, range, options)),
    head: (key) => logDependencyCall(log, component, "head", () => storage.head(key)),
    delete: (key) => logDependencyCall(log, component, "delete", () => storage.delete(key)),
    ping: () => logDependencyCall(log, component, "ping", () => storage.ping()),
    ...(multipart ? { multipart: loggedMultipart(multipart, log, component) } : {}),
  };
}

function loggedMultipart(multipart: MultipartSessions, log: Logger, component: string): MultipartSessions {
  const presignPart = multipart.presignPart?.bind(multipart);
  return {
    create: (key, options) => logDependencyCall(log, component, "createMultipart", () => multipart.create(key, options)),
    uploadPart: (key, uploadId, partNumber, body, size, options) =>
      logDependencyCall(log, component, "uploadPart", () => multipart.uploadPart(key, uploadId, partNumber, body, size, options)),
    listParts: (key, uploadId, options) => logDependencyCall(log, component, "listParts", () => multipart.listParts(key, uploadId, options)),
    complete: (key, uploadId, parts, options) =>
      logDependencyCall(log, component, "completeMultipart", () => multipart.complete(key, uploadId, parts, options)),
    abort: (key, uploadId, options) => logDependencyCall(log, component, "abortMultipart", () => multipart.abort(key, uploadId, options)),
    ...(presignPart ? { presignPart } : {}),
  };
}
