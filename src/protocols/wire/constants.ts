/** Default time allowed for each message read or written on any hffs protocol stream. */
export const MESSAGE_TIMEOUT = 10_000

/** Default for serving and dialing over relayed (limited) connections. */
export const RUN_ON_LIMITED_CONNECTION = true
