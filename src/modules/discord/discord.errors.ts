export const DiscordErrors = {
  /** The Discord user's account was deactivated by platform staff: the bot cannot register it anywhere. */
  ACCOUNT_INACTIVE: 'ACCOUNT_INACTIVE',
  /** `users/link/`: the code is unknown, used or expired (a new one is made in the app). */
  LINK_CODE_INVALID: 'LINK_CODE_INVALID',
  /** `users/link/`: this Discord account already belongs to another MakePlus account. */
  DISCORD_ALREADY_LINKED: 'DISCORD_ALREADY_LINKED',
} as const;
