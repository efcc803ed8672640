CREATE TABLE `usage_counts` (
	`credential_id` text NOT NULL,
	`tenant_id` text NOT NULL,
	`mode` text DEFAULT 'live' NOT NULL,
	`granularity` text NOT NULL,
	`start` integer NOT NULL,
	`ok` integer DEFAULT 0 NOT NULL,
	`client_errors` integer DEFAULT 0 NOT NULL,
	`rate_limited` integer DEFAULT 0 NOT NULL,
	`server_errors` integer DEFAULT 0 NOT NULL,
	`errors_logged` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`credential_id`, `granularity`, `start`)
);
--> statement-breakpoint
CREATE INDEX `usage_counts_tenant` ON `usage_counts` (`tenant_id`,`granularity`,`start`);--> statement-breakpoint
CREATE INDEX `usage_counts_granularity_start` ON `usage_counts` (`granularity`,`start`);
