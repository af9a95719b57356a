// The route table of both API surfaces, and the pages a browser opens (pages/).
import {
  cancelMessageBatch,
  createMessageBatch,
  deleteMessageBatch,
  listMessageBatches,
  messageBatchResults,
  retrieveMessageBatch,
} from "./anthropic/batches.js";
import { Router } from "./http/router.js";
import { cancelBatch, createBatch, listBatches, retrieveBatch } from "./openai/batches.js";
import { deleteFile, fileContent, listFiles, retrieveFile, uploadFile } from "./openai/files.js";
import { batchReport } from "./pages/batch-report.js";
import { dashboard } from "./pages/dashboard.js";
import { login, loginForm, logout } from "./pages/login.js";

export function apiRoutes(): Router {
  return new Router()
    .add("POST", "/v1/files", uploadFile)
    .add("GET", "/v1/files", listFiles)
    .add("GET", "/v1/files/:file", retrieveFile)
    .add("DELETE", "/v1/files/:file", deleteFile)
    .add("GET", "/v1/files/:file/content", fileContent)
    .add("POST", "/v1/batches", createBatch)
    .add("GET", "/v1/batches", listBatches)
    .add("GET", "/v1/batches/:batch", retrieveBatch)
    .add("POST", "/v1/batches/:batch/cancel", cancelBatch)
    .add("POST", "/v1/messages/batches", createMessageBatch)
    .add("GET", "/v1/messages/batches", listMessageBatches)
    .add("GET", "/v1/messages/batches/:msgbatch", retrieveMessageBatch)
    .add("DELETE", "/v1/messages/batches/:msgbatch", deleteMessageBatch)
    .add("POST", "/v1/messages/batches/:msgbatch/cancel", cancelMessageBatch)
    .add("GET", "/v1/messages/batches/:msgbatch/results", messageBatchResults)
    .add("GET", "/", dashboard)
    .add("GET", "/login", loginForm)
    .add("POST", "/login", login)
    .add("POST", "/logout", logout)
    .add("GET", "/batches/:batch/report", batchReport)
    .add("GET", "/batches/:msgbatch/report", batchReport);
}
