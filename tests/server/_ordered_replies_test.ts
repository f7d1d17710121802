import assert from "node:assert/strict";
import { OrderedReplies } from "../../server/_ordered_replies.ts";

Deno.test("OrderedReplies sends replies in request order", () => {
  const sent: string[] = [];
  const replies = new OrderedReplies((line) => sent.push(line));
  replies.now("a");
  const b = replies.reserve();
  replies.now("c");
  const d = replies.reserve();
  replies.now("e");
  assert.deepEqual(sent, ["a"]);
  d("d");
  assert.deepEqual(sent, ["a"]);
  b("b");
  assert.deepEqual(sent, ["a", "b", "c", "d", "e"]);
  b("again"); // a slot is filled once
  const f = replies.reserve();
  f(undefined); // no reply for a notification
  replies.now("g");
  assert.deepEqual(sent, ["a", "b", "c", "d", "e", "g"]);
});
