import nodemailer from "nodemailer";
import type { Message } from "./message.ts";
import type { MailTarget } from "./target.ts";

/**
 * SMTP through nodemailer (runs under Bun and in the compiled binary, STARTTLS and TLS both checked).
 * A login never happens over plain text: with a user, STARTTLS is required.
 */
export async function sendMail(
  t: MailTarget,
  m: Message,
  o: { timeoutMs: number; ca?: string },
): Promise<void> {
  const transport = nodemailer.createTransport({
    host: t.host,
    port: t.port,
    secure: t.secure,
    requireTLS: !t.secure && t.user !== undefined,
    auth: t.user !== undefined ? { user: t.user, pass: t.pass ?? "" } : undefined,
    tls: o.ca ? { ca: o.ca } : undefined,
    connectionTimeout: o.timeoutMs,
    greetingTimeout: o.timeoutMs,
    socketTimeout: o.timeoutMs,
  });
  try {
    await transport.sendMail({
      from: t.from,
      to: t.to,
      subject: m.title,
      text: m.body,
      headers: m.severity === "urgent" ? { Importance: "high", "X-Priority": "1" } : {},
    });
  } finally {
    transport.close();
  }
}
