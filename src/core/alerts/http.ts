import type { Message } from "./message.ts";
import type { HttpTarget } from "./target.ts";

export interface HttpRequest {
  url: string;
  method: "POST";
  headers: Record<string, string>;
  body: string;
}

/** Discord rejects content past 2000 characters, Telegram past 4096. */
const clip = (s: string, max: number) => (s.length <= max ? s : `${s.slice(0, max - 2)} …`);
const json = (headers: Record<string, string>) => ({ ...headers, "Content-Type": "application/json" });
const NTFY_PRIORITY = { info: "3", warning: "4", failure: "4", urgent: "5" } as const;
const GOTIFY_PRIORITY = { info: 2, warning: 5, failure: 8, urgent: 10 } as const;

/** HTTP headers carry Latin-1 only; ntfy's title is a header. */
const ascii = (s: string) => s.replace(/[^\x20-\x7e]/g, "?");

/** The request each HTTP service expects for `m`. Pure: the executor only sends it. */
export function httpRequest(t: HttpTarget, m: Message): HttpRequest {
  const text = `${m.title}\n\n${m.body}`;
  const post = (headers: Record<string, string>, body: string): HttpRequest => ({
    url: t.endpoint,
    method: "POST",
    headers,
    body,
  });
  switch (t.service) {
    case "ntfy":
      return post(
        {
          ...t.headers,
          "Content-Type": "text/plain; charset=utf-8",
          Title: ascii(m.title),
          Priority: NTFY_PRIORITY[m.severity],
          Tags:
            m.severity === "info"
              ? "white_check_mark"
              : m.severity === "warning"
                ? "warning"
                : "rotating_light",
        },
        m.body,
      );
    case "gotify":
      return post(
        json(t.headers),
        JSON.stringify({ title: m.title, message: m.body, priority: GOTIFY_PRIORITY[m.severity] }),
      );
    case "discord":
      return post(
        json(t.headers),
        // File and unit names in the body are anyone's: no @everyone or role ping through them.
        JSON.stringify({
          username: "kopi-docka",
          content: clip(`**${m.title}**\n${m.body}`, 2000),
          allowed_mentions: { parse: [] },
        }),
      );
    case "slack":
      // Slack's own escapes: a name holding `<!channel>` or `<https://…|…>` is shown, never acted on.
      return post(
        json(t.headers),
        JSON.stringify({ text: `*${slackText(m.title)}*\n\`\`\`${slackText(m.body)}\`\`\`` }),
      );
    case "tgram":
      return post(
        json(t.headers),
        JSON.stringify({ chat_id: t.chatId, text: clip(text, 4096), disable_web_page_preview: true }),
      );
    case "json":
      return post(
        json(t.headers),
        JSON.stringify({ event: m.event, severity: m.severity, title: m.title, body: m.body, ...m.data }),
      );
  }
}

/** Text as Slack shows it literally: `&`, `<`, `>` escaped as its message format asks. */
function slackText(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
