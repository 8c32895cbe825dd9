// The wallet's base errors, shared by wallet.ts and the parts it is built from (imported.ts).
export class WalletError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WalletError';
  }
}

export class WalletLockedError extends Error {
  constructor() {
    super('Error: Please enter the wallet passphrase with walletpassphrase first.');
    this.name = 'WalletLockedError';
  }
}

/** The wallet file could not be written and the node was told (onWriteFailed): it is stopping
 * (a full disk), so whoever was told of this write needs only to give up. */
export class WalletWriteError extends WalletError {
  constructor(message: string) {
    super(message);
    this.name = 'WalletWriteError';
  }
}
