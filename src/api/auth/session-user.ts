/** What a logged-in session carries (passport's `req.user`). */
export interface SessionUser {
  id: string;
  login: string;
  displayName: string;
  profileImageUrl: string;
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type
    interface User extends SessionUser {}
  }
}
