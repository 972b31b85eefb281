/** The TypeScript mirror of PROTOCOL.md (version 1): method names, params, results, errors. */

export const PROTOCOL_VERSION = 1;

export const Method = {
  chat: "gemini/chat",
  history: "gemini/history",
  reset: "gemini/reset",
  models: "gemini/models",
  countTokens: "gemini/countTokens",
  status: "gemini/status",
  setModel: "gemini/setModel",
} as const;

export interface Position {
  line: number;
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}

/** A file (or part of one) the daemon reads itself. */
export interface UriAttachment {
  uri: string;
  range?: Range;
}

/** Inline data such as an image. */
export interface DataAttachment {
  name: string;
  mimeType: string;
  data: string;
}

/** Free text context. */
export interface TextAttachment {
  name: string;
  text: string;
}

export type Attachment = UriAttachment | DataAttachment | TextAttachment;

export interface Usage {
  promptTokens: number;
  replyTokens: number;
  thoughtsTokens: number;
  totalTokens: number;
}

export interface ChatParams {
  workspace?: string;
  message: string;
  attachments?: Attachment[];
  model?: string;
  generationConfig?: Record<string, unknown>;
  workDoneToken?: string;
  partialResultToken?: string;
}

/** A workspace tool the daemon ran for the model (section 6, tools). */
export interface ToolCall {
  name: string;
  summary: string;
}

/** An image of a reply, saved by the daemon under `dataDir/images/`. */
export interface ImageRef {
  mimeType: string;
  path: string;
}

/** How many earlier exchanges were summarised to fit the context window. */
export interface Compacted {
  turns: number;
}

export interface ChatResult {
  workspace: string;
  turn: number;
  text: string;
  thoughts: string;
  finishReason: string;
  model: string;
  usage?: Usage;
  toolCalls?: ToolCall[];
  images?: ImageRef[];
  compacted?: Compacted;
}

/** One `$/progress` value for a `partialResultToken`: exactly one of these keys is set. */
export interface ChatDelta {
  text?: string;
  thought?: string;
  tool?: ToolCall;
  image?: ImageRef;
  compacted?: Compacted;
}

export interface HistoryTurn {
  role: "user" | "model";
  text: string;
  attachments?: { name: string; mimeType?: string }[];
  time?: string;
  usage?: Usage;
  thoughts?: string;
  model?: string;
  finishReason?: string;
  toolCalls?: ToolCall[];
  images?: ImageRef[];
  /** On the user turn of a compaction summary: how many exchanges it stands for. */
  compacted?: number;
}

export interface HistoryResult {
  workspace: string;
  turns: HistoryTurn[];
  /** The model the next turn will use (the workspace's sticky choice, else the setting). */
  model?: string;
}

export interface SetModelResult {
  workspace: string;
  model: string;
}

export interface CountTokensResult {
  totalTokens: number;
  inputTokenLimit?: number;
  model: string;
}

export interface ResetResult {
  workspace: string;
  cleared: number;
}

export interface ModelInfo {
  name: string;
  displayName?: string;
  inputTokenLimit?: number;
  outputTokenLimit?: number;
  thinking?: boolean;
}

export interface ModelsResult {
  models: ModelInfo[];
  default: string;
}

export interface StatusResult {
  version: string;
  model: string;
  baseUrl: string;
  apiKeySet: boolean;
  dataDir: string;
  workspaces: string[];
  /** Absolute paths of the context files (GEMINI.md) used for the asked workspace. */
  contextFiles?: string[];
}

/** The daemon's settings section `gemini` (PROTOCOL.md, Settings). */
export interface DaemonSettings {
  model?: string;
  baseUrl?: string;
  systemInstruction?: string;
  generationConfig?: Record<string, unknown>;
  safetySettings?: { category: string; threshold: string }[];
  requestTimeout?: number;
}

export const ErrorCode = {
  invalidParams: -32602,
  serverNotInitialized: -32002,
  requestCancelled: -32800,
  requestFailed: -32803,
} as const;

export type FailureReason =
  | "apiKeyMissing"
  | "apiKeyInvalid"
  | "rateLimited"
  | "blocked"
  | "modelNotFound"
  | "badRequest"
  | "upstreamUnavailable"
  | "timeout"
  | "network"
  | "invalidParams";

/** The `data` of a -32803 RequestFailed (or -32602) error. */
export interface FailureData {
  reason?: FailureReason;
  field?: string;
  httpStatus?: number;
  status?: string;
  retryAfterSeconds?: number;
  blockReason?: string;
  /** The harm categories Gemini flagged for a blocked turn, e.g. HARM_CATEGORY_DANGEROUS_CONTENT. */
  categories?: string[];
}
