CREATE TABLE `portal_links` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`token_hash` text NOT NULL,
	`scopes` text NOT NULL,
	`session_seconds` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`used_at` integer,
	`created_by` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `portal_links_token_hash` ON `portal_links` (`token_hash`);--> statement-breakpoint
CREATE INDEX `portal_links_expires` ON `portal_links` (`expires_at`);--> statement-breakpoint
ALTER TABLE `tenants` ADD `portal_origins` text;