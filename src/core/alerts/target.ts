import type { NotifyLevel } from "../../config/schema.ts";

export const HTTP_SERVICES = ["ntfy", "gotify", "discord", "slack", "tgram", "json"] as const;
export type HttpService = (typeof HTTP_SERVICES)[number];

export interface HttpTarget {
  kind: "http";
  service: HttpService;
  /** Where the POST goes (holds secrets: never shown). */
  endpoint: string;
  headers: Record<string, string>;
  /** Telegram's chat id. */
  chatId?: string;
}

export interface MailTarget {
  kind: "mail";
  host: string;
  port: number;
  /** true: TLS from the first byte (mailtos, 465); false: STARTTLS, required whenever we log in. */
  secure: boolean;
  user?: string;
  pass?: string;
  from: string;
  to: string[];
}

/** A usable notification target. `label` is the masked URL, the only name ever shown. */
export type Target = (HttpTarget | MailTarget) & {
  label: string;
  /**
   * A digest of the resolved URL: names the target across runs (an undelivered alert kept in
   * `<state_dir>/alerts/pending` waits for this target, and no other) without holding the URL.
   */
  id: string;
  level: NotifyLevel;
  /** Every secret part of the URL, for scrubbing error text. */
  secrets: string[];
};
