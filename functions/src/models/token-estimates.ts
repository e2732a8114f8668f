/**
 * Token counts when the provider has not given one: before a call (a budget reservation, which must not fall
 * short) or for output it never reported (an answer stopped midway). Google counts a token as about four
 * characters; a reservation assumes three, to err high.
 */

/** What Gemini 3 counts a picture as at its default media resolution (an upper estimate). */
export const TOKENS_PER_IMAGE = 1_120;

/** At most this many tokens for `characters` of text (a reservation). */
export function tokensAtMost(characters: number): number {
  return Math.ceil(characters / 3);
}

/** About this many tokens for `characters` of text (a receipt with no count from the provider). */
export function tokensAbout(characters: number): number {
  return Math.ceil(characters / 4);
}
