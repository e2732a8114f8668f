import { formatUsd } from "../web/src/message-view.ts";
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import type { Message } from "../functions/src/contract/resources.ts";
import { decodeRgba } from "../functions/src/test-support/test-images.ts";
import { ensureChromium } from "../scripts/lib/ensure-chromium.ts";
import type { LocalStack } from "../scripts/lib/local-stack.ts";
import { repositoryRoot } from "../scripts/lib/paths.ts";
import { launchChromium, saveScreenshot } from "./browser-harness.ts";
import { localStack } from "./local-stack-fixture.ts";

/**
 * The reference web client in a real browser: Debian's Chromium, driven by playwright-core, against the local
 * stack (the page from the Hosting emulator, the API from the Functions emulator, sign-in on the Auth emulator).
 * Every test signs in a user of its own in a fresh browser context and leaves a screenshot in
 * test-output/browser/. `UPDATE_README_SCREENSHOT=1` also refreshes docs/images/client.png.
 */

/** A message as `GET /history/{chat_id}` returns it. */
type StoredMessage = Message;

interface TestUser {
  readonly email: string;
  readonly password: string;
  readonly idToken: string;
}

describe("web client in Chromium (local stack)", function () {
  let stack: LocalStack;
  let browser: Browser | undefined;
  let context: BrowserContext;
  let page: Page;
  let pageErrors: string[];
  let userCount = 0;

  before(async function () {
    this.timeout(600_000);
    const chromium = ensureChromium();
    if (!chromium.available) {
      console.log(`    Skipping the browser tests: ${chromium.reason}`);
      this.skip();
    }
    stack = await localStack();
    browser = await launchChromium(chromium.executablePath);
  });

  beforeEach(async () => {
    assert.ok(browser !== undefined);
    context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    page = await context.newPage();
    pageErrors = [];
    page.on("pageerror", (error) => pageErrors.push(error.message));
  });

  afterEach(async function () {
    if (this.currentTest !== undefined) await saveScreenshot(page, this.currentTest.title.slice(0, 60));
    await context.close();
    assert.deepEqual(pageErrors, [], "no uncaught errors in the page");
  });

  after(async () => {
    await browser?.close();
  });

  async function newUser(): Promise<TestUser> {
    userCount += 1;
    const email = `browser-${String(Date.now())}-${String(userCount)}@atelier.test`;
    const password = "browser-password";
    return { email, password, ...(await stack.auth.signUp(email, password)) };
  }

  async function signIn(user: TestUser): Promise<void> {
    await page.goto(stack.webUrl);
    await page.getByLabel("Email").fill(user.email);
    await page.getByLabel("Password").fill(user.password);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.getByText(`Signed in as ${user.email}`).waitFor();
  }

  const messageBox = () => page.getByLabel("Message", { exact: true });
  const lastAnswer = () => page.locator(".message.assistant").last();
  const status = () => page.locator("#status");

  async function send(text: string, kind: "Text reply" | "Image" | "Video" = "Text reply"): Promise<void> {
    await page.getByLabel("Create").selectOption({ label: kind });
    await messageBox().fill(text);
    await messageBox().press("Enter");
  }

  /** Waits until the newest answer is streaming and shows at least `characters` of text. */
  async function streamingText(characters: number): Promise<string> {
    await page.waitForFunction((minimum) => {
      const answer = [...document.querySelectorAll(".message.assistant")].at(-1);
      return (
        answer?.getAttribute("aria-busy") === "true" &&
        (answer.querySelector(".text")?.textContent ?? "").length >= minimum
      );
    }, characters);
    return (await lastAnswer().locator(".text").textContent()) ?? "";
  }

  async function storedMessages(user: TestUser): Promise<StoredMessage[]> {
    const chatId = new URL(page.url()).hash.slice(1);
    assert.match(chatId, /^chat-/, "the open chat's id is in the address");
    const response = await fetch(`${stack.backendUrl}/history/chats/${chatId}`, {
      headers: { Authorization: `Bearer ${user.idToken}` },
    });
    assert.equal(response.status, 200);
    return ((await response.json()) as { messages: StoredMessage[] }).messages;
  }

  async function lastStored(user: TestUser): Promise<StoredMessage> {
    const message = (await storedMessages(user)).at(-1);
    assert.ok(message !== undefined);
    return message;
  }

  async function waitForImages(count: number): Promise<void> {
    await page.waitForFunction(
      (expected) =>
        [...document.querySelectorAll<HTMLImageElement>(".media img")].filter(
          (image) => image.complete && image.naturalWidth > 0,
        ).length >= expected,
      count,
      { timeout: 60_000 },
    );
  }

  it("signs up, signs out and signs in with email and password, and says so when the password is wrong", async () => {
    const email = `browser-signup-${String(Date.now())}@atelier.test`;
    await page.goto(stack.webUrl);
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill("first-password");
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByText(`Signed in as ${email} (local Auth emulator)`).waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.id), "message", "the message box has the focus");

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill("not-the-password");
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.getByRole("alert").getByText("That email and password do not match an account").waitFor();

    await page.getByLabel("Password").fill("first-password");
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.getByText(`Signed in as ${email}`).waitFor();
    assert.ok(await page.getByRole("navigation", { name: "Chats" }).isVisible());
  });

  it("streams a reply into the live region as it is written; Enter sends and Shift+Enter adds a line", async () => {
    const user = await newUser();
    await signIn(user);
    assert.equal(await page.locator("#conversation-log").getAttribute("aria-live"), "polite");
    await messageBox().pressSequentially("Tell me about kites");
    await messageBox().press("Shift+Enter");
    await messageBox().pressSequentially("simulate:slow");
    assert.equal(await messageBox().inputValue(), "Tell me about kites\nsimulate:slow", "Shift+Enter adds a line");
    await messageBox().press("Enter");

    const partial = await streamingText(10);
    assert.equal(await messageBox().inputValue(), "", "Enter sent the message");
    assert.ok(await page.getByRole("button", { name: "Stop" }).isEnabled(), "Stop is offered while streaming");
    await status().getByText("Answer complete.").waitFor({ timeout: 30_000 });
    const final = (await lastAnswer().locator(".text").textContent()) ?? "";
    assert.ok(final.length > partial.length && final.startsWith(partial), "the text grew from the partial one");
    assert.equal(await lastAnswer().getAttribute("aria-busy"), "false");
    assert.equal(await page.locator(".message.user .text").last().textContent(), "Tell me about kites\nsimulate:slow");

    const stored = await lastStored(user);
    assert.equal(stored.status, "done");
    assert.equal(stored.content, final, "the page shows exactly the stored answer");
    assert.ok(await page.getByRole("button", { name: "Stop" }).isDisabled());
    // The answer's receipt, and what is left of the month's budget (the simulation's ledger, labelled).
    const cost = stored.usage?.cost_usd ?? 0;
    assert.ok(cost > 0);
    assert.equal(await lastAnswer().locator(".cost").textContent(), `Cost: ${formatUsd(cost)} (simulated)`);
    await page
      .locator("#budget")
      .getByText(new RegExp(`^This month: \\${formatUsd(cost)} of \\$5\\.00, \\$[0-9.]+ left \\(simulated\\)$`))
      .waitFor();
  });

  it("lists the user's chats, most recent first, and reopens one with its history", async () => {
    const user = await newUser();
    await signIn(user);
    await send("first topic: volcanoes");
    await status().getByText("Answer complete.").waitFor();
    const firstAnswer = await lastAnswer().locator(".text").textContent();
    const firstChat = new URL(page.url()).hash;
    await page.getByRole("button", { name: "New chat" }).click();
    assert.equal(await page.locator(".message").count(), 0, "a new chat starts empty");
    await send("second topic: glaciers");
    await status().getByText("Answer complete.").waitFor();

    const chats = page.getByRole("navigation", { name: "Chats" }).getByRole("button", { name: /topic/ });
    await page.waitForFunction(() => document.querySelectorAll("#chat-list button").length === 2);
    assert.deepEqual(await chats.allTextContents(), ["second topic: glaciers", "first topic: volcanoes"]);
    await chats.getByText("first topic: volcanoes").click();
    await page.locator(".message.user").getByText("first topic: volcanoes").waitFor();
    assert.equal(await page.locator("#chat-title").textContent(), "first topic: volcanoes");
    assert.equal(new URL(page.url()).hash, firstChat);
    assert.equal(await chats.getByText("first topic: volcanoes").getAttribute("aria-current"), "true");
    assert.equal(await page.locator(".message").count(), 2);
    assert.equal(await lastAnswer().locator(".text").textContent(), firstAnswer);
  });

  it("renders a grounded reply with its Sources, and [n] markers that open their source", async () => {
    const user = await newUser();
    await signIn(user);
    await page.getByLabel("Search the web").check();
    await send("What changed in solar power this year?");
    await status().getByText("Answer complete.").waitFor();

    const stored = await lastStored(user);
    const citations = stored.citations ?? [];
    assert.ok(citations.length >= 2, "the simulated search found sources");
    const sources = lastAnswer().getByRole("region", { name: "Sources" });
    assert.deepEqual(
      await sources
        .getByRole("link")
        .evaluateAll((links) => links.map((link) => [link.textContent, link.getAttribute("href")])),
      citations.map((citation) => [citation.title, citation.url]),
    );
    const markers = lastAnswer().locator("a.citation");
    assert.ok((await markers.count()) >= 2, "the answer's [n] markers are links");
    for (const marker of await markers.all()) {
      const number = Number(await marker.textContent());
      assert.equal(await marker.getAttribute("href"), citations.find((citation) => citation.index === number)?.url);
    }

    // The machine has no internet: answer for example.org so the opened tab has somewhere to land.
    await context.route("https://example.org/**", (route) =>
      route.fulfill({ contentType: "text/html", body: "<title>A source</title>" }),
    );
    const [source] = await Promise.all([context.waitForEvent("page"), markers.first().click()]);
    await source.waitForLoadState();
    assert.equal(source.url(), citations[0]?.url);
    await source.close();
  });

  it("stops a streaming answer with the Stop button and keeps what was written", async () => {
    const user = await newUser();
    await signIn(user);
    await send("Describe the sea simulate:slow");
    await streamingText(20);
    await page.getByRole("button", { name: "Stop" }).click();
    await lastAnswer().getByText("Stopped.").waitFor();
    await status().getByText("Answer stopped.").waitFor();

    const stored = await lastStored(user);
    assert.equal(stored.status, "aborted");
    assert.equal(await lastAnswer().locator(".text").textContent(), stored.content);
    assert.ok(stored.content.length >= 20, "what was written before the stop is kept");
    assert.ok(await page.getByRole("button", { name: "Send" }).isEnabled());
  });

  it("resumes an answer after a reload from the last offset it saw (Last-Event-ID)", async () => {
    const user = await newUser();
    await signIn(user);
    await send("Explain the tides simulate:slow");
    await streamingText(30);
    const saved = JSON.parse((await page.evaluate(() => sessionStorage.getItem("atelier.streaming"))) ?? "{}") as {
      messageId: string;
      offset: number;
    };
    assert.ok(saved.offset >= 30, "the tab remembers how far it got");

    const resumed = page.waitForRequest(
      (request) => request.method() === "GET" && request.url().includes("/chat/stream/"),
    );
    await page.reload();
    const request = await resumed;
    assert.ok(request.url().endsWith(`/chat/stream/${saved.messageId}`));
    assert.ok(Number(request.headers()["last-event-id"]) >= saved.offset, "resumed after what was already shown");
    await status().getByText("Answer complete.").waitFor({ timeout: 30_000 });

    const stored = await lastStored(user);
    assert.equal(stored.status, "done");
    assert.equal(await lastAnswer().locator(".text").textContent(), stored.content, "nothing lost or repeated");
    assert.equal(await page.evaluate(() => sessionStorage.getItem("atelier.streaming")), null);
  });

  it("draws when asked in the chat: the tool's activity shows, then the picture as its own message", async () => {
    const user = await newUser();
    await signIn(user);
    await send("please draw a lighthouse at night");
    await page.locator(".tools .tool").getByText("Drawing a picture").waitFor();
    await waitForImages(1);
    const answer = page.locator(".message.assistant").filter({ hasText: "I'll draw that for you." });
    assert.match(String(await answer.locator(".tool-status").textContent()), /started/);
    const stored = await storedMessages(user);
    assert.deepEqual(
      stored.map((message) => [message.role, message.type]),
      [
        ["user", "text"],
        ["assistant", "text"],
        ["assistant", "image"],
      ],
      "the picture follows the answer, with no second copy of the question",
    );
    await saveScreenshot(page, "a tool call in the chat");
  });

  it("asks before making a video; Approve runs it in the same answer, Decline does not", async () => {
    const user = await newUser();
    await signIn(user);
    await send("make a video of waves");
    const question = page.getByRole("group", { name: "Approval needed" });
    await question.waitFor();
    assert.match(String(await question.textContent()), /wants to make a video: “make a video of waves”/);
    await status().getByText("Atelier is waiting for your approval.").waitFor();
    await saveScreenshot(page, "a tool call waiting for approval");
    await question.getByRole("button", { name: "Approve" }).click();
    // The answer goes on ("on its way"), then the chat reloads to follow the video's own message.
    await page.locator(".message video").first().waitFor({ timeout: 60_000 });
    assert.equal(await question.count(), 0, "the question is gone once answered");
    assert.match(String(await page.locator(".message.assistant .text").first().textContent()), /on its way/);

    await send("make a video of a storm");
    await page.getByRole("group", { name: "Approval needed" }).getByRole("button", { name: "Decline" }).click();
    await page.getByText("Understood: I won't do that.").waitFor({ timeout: 30_000 });
    await page.locator(".tools .tool.declined").waitFor();
    const declined = await lastStored(user);
    assert.equal(declined.tool_calls?.[0]?.status, "declined");
    assert.match(declined.content, /Understood: I won't do that\./);
  });

  it("generates an image: shows progress while pending, then the image", async () => {
    const user = await newUser();
    await signIn(user);
    // Progress can be brief with the fast simulated jobs: record that it was ever shown.
    await page.evaluate(() => {
      const seen = document.createElement("meta");
      seen.id = "progress-seen";
      new MutationObserver(() => {
        if (document.querySelector(".message progress") !== null) document.head.append(seen);
      }).observe(document.body, { subtree: true, childList: true });
    });
    await send("a lighthouse on a cliff", "Image");
    await waitForImages(1);
    await status().getByText("Image ready.").waitFor();
    assert.equal(await page.locator("#progress-seen").count(), 1, "a progress bar was shown while pending");

    const stored = await lastStored(user);
    assert.equal(stored.type, "image");
    assert.equal(stored.status, "done");
    const image = page.locator(".media img").first();
    const shown = stored.images?.[0];
    assert.ok(shown?.thumbnail_url !== undefined);
    // Embedded-mode media URLs are signed at each read, so the paths are what must match.
    const pathOf = (url: string | null | undefined) => new URL(String(url)).pathname;
    assert.equal(pathOf(await image.getAttribute("src")), pathOf(shown.thumbnail_url), "the list loads the thumbnail");
    assert.ok((await image.evaluate((element: HTMLImageElement) => element.naturalWidth)) <= 384);
    const link = await page.locator(".media a").first().getAttribute("href");
    assert.equal(pathOf(link), pathOf(shown.url), "which opens the picture");
    assert.equal(await image.getAttribute("alt"), "Generated image: a lighthouse on a cliff");
  });

  it("edits an image with a mask painted on the canvas over it", async () => {
    const user = await newUser();
    await signIn(user);
    await send("a quiet harbour", "Image");
    await waitForImages(1);
    await page.getByRole("button", { name: "Edit image" }).click();
    const dialog = page.getByRole("dialog", { name: "Edit image" });
    await dialog.waitFor();
    const canvas = dialog.locator("canvas");
    const box = await canvas.boundingBox();
    assert.ok(box !== null);
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.7, box.y + box.height / 2, { steps: 8 });
    await page.mouse.up();
    await dialog.getByLabel("What should change?").fill("make the middle purple");
    await saveScreenshot(page, "image editor with a painted mask");

    const editRequest = page.waitForRequest((request) => request.url().endsWith("/image/edit"));
    await dialog.getByRole("button", { name: "Apply edit" }).click();
    const body = (await editRequest).postDataJSON() as {
      image: { data: string };
      mask: { data: string; mime_type: string };
    };
    const image = await decodeRgba(Buffer.from(body.image.data, "base64"));
    const mask = await decodeRgba(Buffer.from(body.mask.data, "base64"));
    assert.equal(body.mask.mime_type, "image/png");
    assert.deepEqual([mask.width, mask.height], [image.width, image.height], "the mask has the image's size");
    const pixel = (x: number, y: number) => [
      ...mask.data.subarray((y * mask.width + x) * 4, (y * mask.width + x) * 4 + 4),
    ];
    assert.deepEqual(
      pixel(Math.round(mask.width / 2), Math.round(mask.height / 2)),
      [255, 255, 255, 255],
      "painted: white",
    );
    assert.deepEqual(pixel(2, 2), [0, 0, 0, 255], "unpainted: black");

    await waitForImages(2);
    await page.locator(".message.user .text").getByText("Edit: make the middle purple").waitFor();
    const stored = await lastStored(user);
    assert.equal(stored.status, "done");
  });

  it("generates a video and plays it in a <video> element (H.264 in Debian's Chromium)", async () => {
    const user = await newUser();
    await signIn(user);
    await send("waves at sunset", "Video");
    const video = page.locator(".media video");
    await page.waitForFunction(
      () =>
        (document.querySelector<HTMLVideoElement>(".media video")?.readyState ?? 0) >= HTMLMediaElement.HAVE_METADATA,
      undefined,
      { timeout: 60_000 },
    );
    await status().getByText("Video ready.").waitFor();
    const loaded = await video.evaluate((element: HTMLVideoElement) => ({
      duration: element.duration,
      width: element.videoWidth,
      height: element.videoHeight,
      controls: element.controls,
    }));
    assert.ok(Math.abs(loaded.duration - 4) < 0.1, `a 4 s video, the default (${String(loaded.duration)})`);
    assert.deepEqual([loaded.width, loaded.height, loaded.controls], [320, 180, true]);

    await video.evaluate(async (element: HTMLVideoElement) => {
      element.muted = true;
      await element.play();
    });
    await page.waitForFunction(
      () => (document.querySelector<HTMLVideoElement>(".media video")?.currentTime ?? 0) > 0.3,
    );
    assert.equal(await video.evaluate((element: HTMLVideoElement) => element.error), null, "decoded without error");
    assert.equal((await lastStored(user)).status, "done");
  });

  it("picks a model from GET /models, folds the thinking above the answer, and says when a fallback answered", async () => {
    const user = await newUser();
    await signIn(user);
    const picker = page.getByLabel("Model");
    await page.waitForFunction(() => (document.querySelector<HTMLSelectElement>("#model")?.options.length ?? 0) > 1);
    assert.equal(await picker.inputValue(), "gemini-3.8-flash", "the default text model is preselected");
    await picker.selectOption("gemini-4-hydrogen");
    await page.getByLabel("Show thinking").check();
    await send("Why is the sky blue?");
    await status().getByText("Answer complete.").waitFor({ timeout: 30_000 });
    const thinking = lastAnswer().locator("details.thinking");
    assert.equal(await thinking.locator("summary").textContent(), "Thinking");
    assert.match((await thinking.locator(".thinking-text").textContent()) ?? "", /Understanding the request/);
    assert.doesNotMatch((await lastAnswer().locator(".text").textContent()) ?? "", /Understanding the request/);
    const answered = await lastStored(user);
    assert.equal(answered.model, "gemini-4-hydrogen");

    await page.getByLabel("Show thinking").uncheck();
    await send("Are you there? simulate:primary-down");
    await status().getByText("Answer complete.").waitFor({ timeout: 30_000 });
    assert.match(
      (await lastAnswer().locator(".note").textContent()) ?? "",
      /Answered by gemini-3\.5-flash-lite: gemini-4-hydrogen was unavailable/,
    );
    assert.equal((await lastStored(user)).fallback_from, "gemini-4-hydrogen");

    await page.getByLabel("Create").selectOption({ label: "Video" });
    assert.equal(await picker.inputValue(), "gemini-omni-1.1-flash", "the picker follows the kind");
    assert.ok(await page.getByLabel("Show thinking").isDisabled());
  });

  it("explains a blocked prompt, a provider outage and the rate limit (with its wait) in plain words", async () => {
    const user = await newUser();
    await signIn(user);
    await send("simulate:blocked tell me something");
    await lastAnswer().getByText("The safety filters blocked this request. Try wording it differently.").waitFor();
    await send("simulate:unavailable tell me something");
    await lastAnswer().getByText("The AI service is unavailable right now. Please try again in a moment.").waitFor();
    const answers = await page.locator(".message").count();

    // Empty the user's rate-limit bucket: invalid requests still take a token, and create nothing.
    let refused = false;
    for (let attempt = 0; attempt < 40 && !refused; attempt++) {
      const response = await fetch(`${stack.backendUrl}/chat/stream`, {
        method: "POST",
        headers: { Authorization: `Bearer ${user.idToken}`, "Content-Type": "application/json" },
        body: "{}",
      });
      refused = response.status === 429;
    }
    assert.ok(refused, "the bucket ran dry");
    await send("one more question");
    await page
      .getByRole("alert")
      .getByText(/^You are sending requests too quickly\. Try again in \d+ seconds\.$/)
      .waitFor();
    assert.equal(await messageBox().inputValue(), "one more question", "the text is given back to retry");
    assert.equal(await page.locator(".message").count(), answers, "nothing was added to the conversation");
  });

  it("shows a grounded answer with Sources and a generated image together (the README screenshot)", async () => {
    await page.setViewportSize({ width: 1280, height: 1120 });
    await page.goto(stack.webUrl);
    await page.getByRole("button", { name: "Continue as guest" }).click();
    await page.getByText("Signed in as a guest").waitFor();
    await page.getByLabel("Search the web").check();
    await send("What is new in the search for exoplanets?");
    await status().getByText("Answer complete.").waitFor();
    await send("a telescope under a starry sky", "Image");
    await waitForImages(1);
    await status().getByText("Image ready.").waitFor();
    await page.locator("#message").blur();
    const path = await saveScreenshot(page, "client");
    if (process.env.UPDATE_README_SCREENSHOT === "1") {
      mkdirSync(join(repositoryRoot, "docs", "images"), { recursive: true });
      copyFileSync(path, join(repositoryRoot, "docs", "images", "client.png"));
    }
  });
});
