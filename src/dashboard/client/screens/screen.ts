import type { Session } from "../session";

/** What the shell hands every screen: the signed-in session. */
export type ScreenProps = { session: Session };
