/** The event a bot token acts for, resolved by the global guard from the `X-Bot-Token` header. */
export interface BotContext {
  tokenId: string;
  eventId: string;
  /** Discord channels the organizer bound the token to. */
  channelIds: string[];
}

export const BOT_TOKEN_HEADER = 'x-bot-token';

/**
 * Checks an `X-Bot-Token` (the Discord module implements it). The global guard calls it for `@BotToken()` routes:
 * it answers the token's context, or throws 401 TOKEN_INVALID for an unknown or revoked token.
 */
export abstract class BotTokenVerifier {
  abstract verify(token: string): Promise<BotContext>;
}

declare module 'fastify' {
  interface FastifyRequest {
    bot?: BotContext;
  }
}
