// Type definitions for k6/x/pixel, the pixelk6 extension for the Pixelated Empathy API.
// Durations are milliseconds (numbers) unless a string such as "10s" is accepted.

declare module 'k6/x/pixel' {
  /** Known answer of a labelled prompt: feeds crisis_recall / crisis_false_alarms and bias_recall / bias_false_alarms. */
  export interface Expect {
    /** true: the prompt is a crisis (feeds crisis_recall); false: it is not (feeds crisis_false_alarms). */
    crisis?: boolean;
    /** true: the prompt is biased (feeds bias_recall); false: it is not (feeds bias_false_alarms). */
    bias?: boolean;
  }

  export interface InspectOptions {
    /** Known answer mode. */
    expect?: Expect;
    /** Tags added to every sample of this call (merged over the VU's tags). */
    tags?: Record<string, string | number | boolean>;
    /** Throw on an unreadable response instead of only counting inference_parse_errors. Default false. */
    throwOnError?: boolean;
  }

  /** What pixel.inspect found in one inference response. */
  export interface Detection {
    /** false when the response could not be read (see error) or its HTTP status was not 2xx. */
    ok: boolean;
    crisis: boolean;
    /** "none", "low", "medium", "high", "imminent" (or "unknown" when a crisis has no level); "" when not reported. */
    riskLevel: string;
    confidence: number;
    bias: boolean;
    /** Bias categories, e.g. ["gender", "race"]; empty when no bias. */
    categories: string[];
    biasScore: number;
    /** The API-reported latency_ms, or null when absent. */
    latencyMs: number | null;
    /** The model's response text. */
    response: string;
    /** Why ok is false; "" otherwise. */
    error: string;
  }

  /** A k6/http response, or anything with a body and a status. */
  export interface ResponseLike {
    status: number;
    body: string | ArrayBuffer | null;
  }

  /** A k6/net/grpc Response: status 0 (grpc.StatusOK) and the message as an object. */
  export interface GRPCResponseLike {
    status: number;
    message: object | null;
    trailers: object;
  }

  /** Dot-separated member paths of the response fields; null or "" means "not reported". */
  export interface Paths {
    response?: string | null;
    latencyMs?: string | null;
    crisisDetected?: string | null;
    riskLevel?: string | null;
    confidence?: string | null;
    biasDetected?: string | null;
    biasCategories?: string | null;
    biasScore?: string | null;
    /** Default for InspectOptions.throwOnError. */
    throwOnError?: boolean;
  }

  export interface AudioOptions {
    /** Number of frames (default: as many as data fills). */
    frames?: number;
    /** Frame length in ms (default 20); also the default pacing interval. */
    frameMs?: number;
    /** PCM sample rate in Hz (default 16000); a frame is sampleRate*frameMs/1000*2 bytes of 16-bit mono PCM. */
    sampleRate?: number;
    /** PCM to stream, e.g. open('voice.pcm', 'b'); a synthetic tone when absent. */
    data?: ArrayBuffer;
  }

  export interface ImageOptions {
    frames?: number;
    /** Bytes per frame (default data.byteLength or 4096). */
    bytes?: number;
    data?: ArrayBuffer;
  }

  export interface StreamOptions extends InspectOptions {
    headers?: Record<string, string>;
    subprotocols?: string[];
    /** TCP connect + upgrade timeout (default 10 s). */
    connectTimeout?: number | string;
    /** Longest wait for a chunk's ack, and for ready after start (default 10 s). */
    ackTimeout?: number | string;
    /** Cap on the whole session, final inference included (default 60 s). */
    sessionTimeout?: number | string;
    /** Pacing: chunk i is sent at start + i*interval (default audio.frameMs, else 20 ms). */
    interval?: number | string;
    /** "json" (default): {"type":"chunk","seq","modality","data"} text frames; "binary": raw bytes in binary frames. */
    encoding?: 'json' | 'binary';
    /** The server acks every chunk (default true); false for servers that do not. */
    acks?: boolean;
    /** Send {"type":"start",...} first and wait for ready (default true). */
    start?: boolean;
    sessionId?: string;
    /** Modalities announced in start (default: those streamed). */
    modalities?: Array<'text' | 'audio' | 'image'>;
    /** Text to stream, split at spaces into chunks of at most textChunkSize characters (default 64). */
    text?: string;
    textChunkSize?: number;
    audio?: AudioOptions;
    image?: ImageOptions;
    /** Synthetic text chunks of chunkSize bytes (default 640), after text, audio and image. */
    chunks?: number;
    chunkSize?: number;
  }

  /** The `error` tag values (and errorKind) of a failed session. */
  export type StreamErrorKind =
    | '' | 'refused' | 'dial' | 'handshake' | 'connect_timeout' | 'ready_timeout' | 'ack_timeout'
    | 'session_timeout' | 'closed' | 'write' | 'malformed' | 'server_error' | 'canceled';

  export interface StreamResult {
    ok: boolean;
    url: string;
    /** 101 once upgraded; the HTTP status of a rejected upgrade; 0 when no answer. */
    status: number;
    subprotocol: string;
    error: string;
    errorKind: StreamErrorKind;
    connectingMs: number;
    durationMs: number;
    /** Chunks planned, sent and acked. */
    chunks: number;
    chunksSent: number;
    chunksAcked: number;
    msgsSent: number;
    msgsReceived: number;
    /** How late the most delayed chunk was sent against its schedule. */
    maxLagMs: number;
    /** Each acked chunk's latency (sent → its ack's arrival, by the kernel's receive timestamp) in ms, in ack order. */
    chunkLatencies: number[];
    /** end sent → final inference received, or null without an inference. */
    messageLatencyMs: number | null;
    /** The final inference, through the detection counters; null without one. */
    inference: Detection | null;
    /** The final inference message as received. */
    raw: string | null;
  }

  /** Reads an inference response natively and records the detection counters. Never throws unless asked to (throwOnError), or when an option is unknown or of the wrong type. */
  export function inspect(response: ResponseLike | GRPCResponseLike | string | ArrayBuffer | object, options?: InspectOptions): Detection;
  /** Sets this VU's response field paths (call it in the init context for every VU); returns the paths in force. */
  export function configure(paths?: Paths): Required<Paths>;
  /** Runs one streaming session, blocking the VU until it ends. Throws only on invalid options (an unknown key is invalid). */
  export function stream(url: string, options?: StreamOptions): StreamResult;
  /** Runs one streaming session concurrently; the promise always resolves (failures are in the result). */
  export function streamAsync(url: string, options?: StreamOptions): Promise<StreamResult>;

  const pixel: {
    inspect: typeof inspect;
    configure: typeof configure;
    stream: typeof stream;
    streamAsync: typeof streamAsync;
  };
  export default pixel;
}
