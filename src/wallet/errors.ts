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
