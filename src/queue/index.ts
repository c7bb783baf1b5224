/**
 * The job queue: BullMQ on Redis carries shards to inference workers; each finished prediction
 * comes back on the sweep's results stream and the collector writes it into its run directory.
 * Redis is transport; the run directories on the orchestrator's disk are the truth.
 */
export {
  type CollectedPrediction,
  type Collector,
  type CollectorOptions,
  type CollectorStats,
  startCollector,
} from "./collector.js";
export {
  COLLECTOR_GROUP,
  checkSweepId,
  DEFAULT_PREFIX,
  QUEUE_NAME,
  resultsStreamKey,
  shardJobId,
  sweepJobsKey,
  workerKey,
} from "./names.js";
export {
  type EnqueueOptions,
  type EnqueueResult,
  enqueueShards,
  listWorkers,
  QueueConnection,
  type QueueConnectionOptions,
  type ShardJob,
  type ShardState,
  type ShardStatus,
  type SweepShards,
  shardStates,
  sweepJobIds,
} from "./producer.js";
export {
  connectRedis,
  parseRedisUrl,
  type RedisTarget,
  redactRedisUrl,
  redactSecrets,
} from "./redis.js";
export type {
  ShardData,
  ShardProgress,
  ShardResult,
  WorkerHeartbeat,
} from "./types.js";
export { InferenceWorker, type InferenceWorkerOptions, type WorkerExit } from "./worker.js";
