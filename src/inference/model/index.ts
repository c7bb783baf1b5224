/** Finding a model's files: a local folder or a hub repository pinned to a commit. */
export {
  DTYPE_FILES,
  DTYPES,
  type Dtype,
  dtypesAmong,
  externalDataOf,
  isDtype,
  onnxPathOf,
} from "./dtypes.js";
export { fileSha256, modelFileHash, rememberFileHash, sha256OfFile } from "./file-hash.js";
export {
  folderOrHubId,
  pickModelFiles,
  type ResolvedModel,
  type ResolveModelOptions,
  readJsonObject,
  resolveModel,
} from "./resolve.js";
