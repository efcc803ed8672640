import type { Session } from "../session";

/** What the shell hands every screen: the signed-in session, and what follows the screen's id in the route (`#/deliveries/wh_…`). */
export type ScreenProps = { session: Session; param?: string };
