// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} is the config syntax under test
import { describe, expect, test } from "bun:test";
import { maskSecrets } from "../../../../src/config/mask.ts";
import { ConfigSchema } from "../../../../src/config/schema.ts";
import { httpRequest } from "../../../../src/core/alerts/http.ts";
import { maskUrl, scrub } from "../../../../src/core/alerts/mask.ts";
import { testMessage } from "../../../../src/core/alerts/message.ts";
import { parseTarget } from "../../../../src/core/alerts/parse.ts";
import { expand, resolvePingUrl, resolveTargets } from "../../../../src/core/alerts/resolve.ts";
import type { HttpTarget } from "../../../../src/core/alerts/target.ts";

const http = (url: string) =>
  parseTarget(url, "failure") as HttpTarget & { label: string; secrets: string[] };

describe("notification URLs", () => {
  test.each([
    ["ntfys://ntfy.example/backups-x1", "https://ntfy.example/backups-x1", "ntfys://ntfy.example/***"],
    ["ntfy://127.0.0.1:8080/t", "http://127.0.0.1:8080/t", "ntfy://127.0.0.1:8080/***"],
    ["gotifys://push.example/sub/AbCtoken", "https://push.example/sub/message", "gotifys://push.example/***"],
    ["discord://123/tok-en", "https://discord.com/api/webhooks/123/tok-en", "discord://***"],
    ["slack://T1/B2/xyzsecret", "https://hooks.slack.com/services/T1/B2/xyzsecret", "slack://***"],
    ["tgram://123456:ABC-def/42", "https://api.telegram.org/bot123456%3AABC-def/sendMessage", "tgram://***"],
    ["jsons://u:pw@hook.example/in/k", "https://hook.example/in/k", "jsons://u:***@hook.example/***"],
    ["discord://1/t?host=127.0.0.1:9&scheme=http", "http://127.0.0.1:9/api/webhooks/1/t", "discord://***"],
  ])("%s", (url, endpoint, label) => {
    const t = http(url);
    expect(t.endpoint).toBe(endpoint);
    expect(t.label).toBe(label);
    expect(maskUrl(url)).toBe(label);
  });

  test.each([
    ["mailtos://me:s3cr/etPW@smtp.example.org?to=ops@example.org"],
    ["ntfys://u:pa?ss@ntfy.example/topic"],
    ["json://u:pw#x@hook.example/in"],
  ])("a password with an unencoded / ? or #: nothing of it shown (%#)", (url) => {
    expect(maskUrl(url)).toBe(`${url.split(":")[0]}://***`);
  });

  test("user info without a password may be a token: not shown", () => {
    expect(maskUrl("ntfys://tk_s3cret@ntfy.example/topic")).toBe("ntfys://***@ntfy.example/***");
    expect(maskUrl("json://u:pw@hook.example/")).toBe("json://u:***@hook.example");
  });

  test("auth goes in headers: ntfy token, gotify key, basic user info", () => {
    expect(http("ntfys://n.example/t?token=tk_1").headers.Authorization).toBe("Bearer tk_1");
    expect(http("gotify://g.example/KEY").headers["X-Gotify-Key"]).toBe("KEY");
    expect(http("json://a:b@h.example/p").headers.Authorization).toBe(`Basic ${btoa("a:b")}`);
  });

  test("a password with an unencoded / cut short reads as the host: refused without echoing it", () => {
    const e = (() => {
      try {
        parseTarget("ntfys://alice:s3cr3tpart/rest@ntfy.example/topic", "always");
      } catch (x) {
        return x as Error;
      }
    })();
    expect(e?.message).toMatch(/is not a host name|an @ after the host/);
    expect(e?.message).not.toContain("s3cr3tpart");
    // One whose cut-off part reads as host:port: before, posted to https://alice:1234/rest%40… .
    expect(() => parseTarget("ntfys://alice:1234/rest@ntfy.example/topic", "always")).toThrow(
      /an @ after the host/,
    );
  });

  test("plain http to a fixed-host service only on loopback", () => {
    expect(() => http("slack://a/b/c?host=evil.example&scheme=http")).toThrow(/loopback only/);
  });

  test("mailto: STARTTLS on 587, TLS on 465, recipients, errors name no secret", () => {
    const m = parseTarget("mailto://me%40x.org:s3cr%2Ft@smtp.x.org?to=a@b.org,c@d.org", "always");
    expect(m).toMatchObject({ kind: "mail", host: "smtp.x.org", port: 587, secure: false, user: "me@x.org" });
    expect(m.kind === "mail" && m.pass).toBe("s3cr/t");
    expect(m.kind === "mail" && m.to).toEqual(["a@b.org", "c@d.org"]);
    expect(parseTarget("mailtos://u:p@smtp.x.org?to=a@b.org", "always", "h")).toMatchObject({
      port: 465,
      secure: true,
    });
    expect(() => parseTarget("mailtos://u:topsecret@smtp.x.org", "always")).toThrow(/recipient/);
    try {
      parseTarget("bogus://u:topsecret@h/x", "always");
    } catch (e) {
      expect(String(e)).not.toContain("topsecret");
    }
  });

  test("${VAR} and ${file:…} expand; an unset variable is an error", () => {
    const src = { env: { TOPIC: "t1" }, readSecretFile: () => "a/b c" };
    expect(expand("ntfy://h/${TOPIC}", "x", src)).toBe("ntfy://h/t1");
    expect(expand("json://u:${file:/s}@h/p", "x", src)).toBe("json://u:a%2Fb%20c@h/p");
    expect(() => expand("ntfy://h/${NOPE}", "x", src)).toThrow(/NOPE/);
    const config = ConfigSchema.parse({
      alerts: { notify: [{ url: "ntfy://h/${TOPIC}", level: "always" }] },
    });
    expect(resolveTargets(config.alerts, src)[0]?.label).toBe("ntfy://h/***");
  });

  test("ping_url: a trailing slash of the path goes, the query string stays whole", () => {
    const src = { env: {}, readSecretFile: () => "" };
    const ping = (ping_url: string) =>
      resolvePingUrl(ConfigSchema.parse({ alerts: { ping_url } }).alerts, src);
    expect(ping("https://hc.example/k/srv01/?create=1")).toBe("https://hc.example/k/srv01?create=1");
    expect(ping("https://hc.example/uuid//")).toBe("https://hc.example/uuid");
    expect(ping("https://hc.example/k/a?x=1/")).toBe("https://hc.example/k/a?x=1/");
  });

  test("config show keeps scheme and host of notification URLs, masks the rest", () => {
    const config = ConfigSchema.parse({
      alerts: { notify: [{ url: "tgram://1:SECRET/2" }], ping_url: "https://hc.example/ping/uuid-secret" },
    });
    const text = JSON.stringify(maskSecrets(config));
    expect(text).not.toContain("SECRET");
    expect(text).not.toContain("uuid-secret");
    expect(text).toContain("https://hc.example/***");
  });

  test("scrub removes secrets and their encoded forms", () => {
    expect(scrub("fail at https://x/a b?k=a%20b", ["a b"])).toBe(
      "fail at https://x/*** ?k=***".replace(" ?", "?"),
    );
  });

  test("ntfy sends the body as text with title and priority headers", () => {
    const r = httpRequest(http("ntfy://127.0.0.1:1/t"), testMessage("h"));
    expect(r.headers.Title).toBe("kopi-docka h: test notification");
    expect(r.headers.Priority).toBe("3");
    expect(r.body).toContain("This target works");
  });

  test("names in a message ping no one on Discord and stay text on Slack", () => {
    const m = {
      ...testMessage("h"),
      body: "failed: /data/@everyone <!channel> <https://x.example|click> & co",
    };
    const discord = JSON.parse(httpRequest(http("discord://1/abc"), m).body);
    expect(discord.allowed_mentions).toEqual({ parse: [] });
    const slack = JSON.parse(httpRequest(http("slack://T0/B0/abc"), m).body).text as string;
    expect(slack).toContain("&lt;!channel&gt; &lt;https://x.example|click&gt; &amp; co");
    expect(slack).not.toContain("<!channel>");
  });
});
