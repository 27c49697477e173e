declare module 'passport-twitch-new' {
  import OAuth2Strategy from 'passport-oauth2';

  /** passport-oauth2 with Twitch's endpoints as defaults (see PROTOCOL.md section 4.9). */
  export class Strategy extends OAuth2Strategy {
    constructor(
      options: OAuth2Strategy.StrategyOptionsWithRequest,
      verify: OAuth2Strategy.VerifyFunctionWithRequest,
    );
  }
  const twitch: { Strategy: typeof Strategy };
  export default twitch;
}
