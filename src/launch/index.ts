// The launch library's public surface: start vLLM engines (process, docker, modal), watch them,
// and tear them down; plus the state files behind `vbatch up | ps | down`.
export { type DockerRunInput, dockerRunArgs, gpusFlag } from "./docker/args.js";
export { detectGpus, gpuGroups, parseGpuList } from "./gpus.js";
export { type ReadyInfo, type WaitReadyOptions, waitReady } from "./health.js";
export { launchEngines } from "./launch.js";
export {
  followModalResult,
  isModalRedirect,
  type ModalResult,
  type ModalResultOptions,
} from "./modal/result.js";
export {
  findModalWebUrl,
  /** @deprecated the same function as findModalWebUrl, kept for code written against 0.x */
  findModalWebUrl as parseModalUrl,
} from "./modal/url.js";
export { MODAL_APP_FILE } from "./modal-driver.js";
export {
  DEFAULT_MAX_RESTARTS,
  DEFAULT_PORT,
  DEFAULT_STARTUP_TIMEOUT_MS,
  DEFAULT_VLLM_IMAGE,
} from "./options.js";
export type {
  EngineGroupRecord,
  EngineRecord,
  Launch,
  LaunchedEngine,
  LaunchKind,
  LaunchOptions,
} from "./types.js";
export { type StopRecordedOptions, type StopRecordedResult, stopRecorded } from "./up/down.js";
export { type EngineStatus, type EngineStatusOptions, engineStatus } from "./up/ps.js";
export {
  checkEngineGroupName,
  engineGroupLockPath,
  listEngines,
  readEngines,
  recordEngines,
  removeEngines,
  type StateOptions,
  vbatchHome,
} from "./up/state.js";
