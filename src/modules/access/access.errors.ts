export const AccessErrors = {
  /** A (device, nonce) already answered another scan (other room, badge or direction): 409 online. */
  NONCE_REUSED: 'NONCE_REUSED',
} as const;
