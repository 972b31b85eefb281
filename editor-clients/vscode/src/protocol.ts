/** The TypeScript mirror of PROTOCOL.md (version 1): method names, params, results, errors. */

export const Method = {
  chat: "gemini/chat",
  history: "gemini/history",
  reset: "gemini/reset",
  models: "gemini/models",
  countTokens: "gemini/countTokens",
  status: "gemini/status",
  setModel: "gemini/setModel",
  conversations: "gemini/conversations",
  openConversation: "gemini/openConversation",
  renameConversation: "gemini/renameConversation",
  deleteConversation: "gemini/deleteConversation",
  export: "gemini/export",
  generateImage: "gemini/generateImage",
} as const;

/** Notifications the daemon sends (Additions: one live conversation per folder). */
export const Notification = {
  conversationChanged: "gemini/conversationChanged",
  turnProgress: "gemini/turnProgress",
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

/** What a reply cost (a priced model only): this reply, and the conversation's priced replies so far. */
export interface Cost {
  reply: number;
  conversation: number;
  currency: string;
}

export interface Usage {
  promptTokens: number;
  replyTokens: number;
  thoughtsTokens: number;
  totalTokens: number;
  /** Prompt tokens served from the context cache (part of promptTokens). */
  cachedTokens?: number;
  /** Imagen: how many images were made (the token counts are 0). */
  images?: number;
  cost?: Cost;
}

/** JSON mode for one turn: the reply is JSON, checked against `schema` when given. */
export interface JsonRequest {
  schema?: Record<string, unknown>;
}

/** The daemon's check of a JSON reply against the schema (`value`: the parsed reply, when it parsed). */
export interface JsonCheck {
  valid: boolean;
  errors: string[];
  value?: unknown;
}

export interface ChatParams {
  workspace?: string;
  message: string;
  attachments?: Attachment[];
  model?: string;
  generationConfig?: Record<string, unknown>;
  json?: JsonRequest;
  workDoneToken?: string;
  partialResultToken?: string;
}

/** Imagen's `gemini/generateImage`: the prompt, recorded as the folder's next exchange. */
export interface GenerateImageParams {
  workspace?: string;
  prompt: string;
  model?: string;
  numberOfImages?: number;
  aspectRatio?: string;
  workDoneToken?: string;
  partialResultToken?: string;
}

export interface GenerateImageResult {
  workspace: string;
  turn: number;
  model: string;
  images: ImageRef[];
  usage?: Usage;
  /** Why images were dropped after drawing, one reason per missing image. */
  filtered?: string[];
  redacted?: Redaction[];
}

/** A user turn made by gemini/generateImage (history). */
export interface ImagenAsk {
  model: string;
  numberOfImages: number;
  aspectRatio?: string;
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

/** A secret masked before sending: its kind and where (`message`, `attachments.0`, ...). */
export interface Redaction {
  kind: string;
  where: string;
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
  redacted?: Redaction[];
  json?: JsonCheck;
}

/** One `$/progress` value for a `partialResultToken`: exactly one of these keys is set. */
export interface ChatDelta {
  text?: string;
  thought?: string;
  tool?: ToolCall;
  image?: ImageRef;
  compacted?: Compacted;
  redacted?: Redaction[];
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
  /** On the user turn of an Imagen request: what was asked of it. */
  imagen?: ImagenAsk;
  filtered?: string[];
  json?: JsonCheck;
}

/** A turn whose daemon died while it streamed: never stored, shown so it can be sent again. */
export interface InterruptedTurn {
  message: string;
  attachments: { name: string; mimeType?: string }[];
  text: string;
  thoughts: string;
  time: string;
  /** An interrupted `gemini/generateImage` (`message` is its prompt): sent again as one. */
  image?: ImagenAsk;
}

export interface HistoryResult {
  workspace: string;
  /** The active conversation's id; null when the folder has none. */
  conversation?: string | null;
  turns: HistoryTurn[];
  /** The model the next turn will use (the workspace's sticky choice, else the setting). */
  model?: string;
  interrupted?: InterruptedTurn;
}

export type ChangeReason = "turn" | "reset" | "open" | "deleted" | "renamed" | "model" | "compacted";

/** `gemini/conversationChanged`: the folder's conversation changed in the store (any daemon). */
export interface ConversationChanged {
  workspace: string;
  conversation: string | null;
  reason: ChangeReason;
  turn: number;
}

/** `gemini/turnProgress`: a turn another editor started; `text` is the whole reply so far. */
export interface TurnProgress {
  workspace: string;
  conversation: string | null;
  turn: number;
  state: "started" | "streaming" | "finished" | "failed" | "cancelled";
  message?: string;
  text?: string;
  thoughts?: string;
  /** With `failed`: the daemon running the turn died; history now carries `interrupted`. */
  interrupted?: boolean;
  /** With `finished`: the reply's images, when it has any. */
  images?: ImageRef[];
  /** With `started` of a `gemini/generateImage` (extension): what it asks Imagen for. */
  image?: ImagenAsk;
}

/** One conversation of a folder (gemini/conversations). */
export interface ConversationInfo {
  id: string;
  title: string;
  created: string;
  updated: string;
  turns: number;
  active: boolean;
}

export interface ConversationsResult {
  workspace: string;
  active: string | null;
  conversations: ConversationInfo[];
  total: number;
}

export interface ExportResult {
  workspace: string;
  id: string;
  title: string;
  markdown: string;
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
  /** chat: offer first; special: answers but is not made for chat; image: never for chat. */
  kind?: "chat" | "special" | "image";
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
  /** The newest 429 the daemon met (absent: none since it started). */
  rateLimit?: RateLimit;
}

/** `gemini/status` rateLimit: the newest 429 as far as the API's error said (times in UTC). */
export interface RateLimit {
  model: string;
  quota: "minute" | "day" | null;
  retryAfterSeconds: number | null;
  at: string;
  resetsAt: string | null;
}

/** The daemon's settings section `gemini` (PROTOCOL.md, Settings). */
export interface DaemonSettings {
  model?: string;
  baseUrl?: string;
  systemInstruction?: string;
  generationConfig?: Record<string, unknown>;
  safetySettings?: { category: string; threshold: string }[];
  requestTimeout?: number;
  imageModel?: string;
  prices?: Record<string, unknown>;
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
  | "storage"
  | "invalidParams";

/** The `data` of a -32803 RequestFailed (or -32602) error. */
export interface FailureData {
  reason?: FailureReason;
  field?: string;
  httpStatus?: number;
  status?: string;
  retryAfterSeconds?: number;
  /** rateLimited: which quota ran out, when the API named it. */
  quota?: "minute" | "day";
  blockReason?: string;
  /** The harm categories Gemini flagged for a blocked turn, e.g. HARM_CATEGORY_DANGEROUS_CONTENT. */
  categories?: string[];
  /** storage: the reply finished but could not be saved; here it is, so nothing is lost. */
  text?: string;
}
