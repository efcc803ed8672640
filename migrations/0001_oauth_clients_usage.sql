CREATE TABLE `credential_usage` (
	`credential_id` text NOT NULL,
	`day` text NOT NULL,
	`count` integer NOT NULL,
	PRIMARY KEY(`credential_id`, `day`)
);
--> statement-breakpoint
CREATE TABLE `oauth_clients` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`name` text NOT NULL,
	`secret_hash` text NOT NULL,
	`secret_last4` text NOT NULL,
	`scopes` text NOT NULL,
	`ip_allowlist` text,
	`expires_at` integer,
	`deleted_at` integer,
	`last_used_at` integer,
	`created_by` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `oauth_clients_tenant_created` ON `oauth_clients` (`tenant_id`,`created_at`,`id`);