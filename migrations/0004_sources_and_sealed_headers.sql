CREATE TABLE `source_requests` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`source_id` text NOT NULL,
	`received_at` integer NOT NULL,
	`status` text NOT NULL,
	`rejection` text,
	`verified` integer NOT NULL,
	`event_id` text,
	`ip` text,
	`method` text NOT NULL,
	`query` text NOT NULL,
	`headers` text NOT NULL,
	`content_type` text,
	`body` text NOT NULL,
	`body_truncated` integer NOT NULL,
	`response_status` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `source_requests_source_received` ON `source_requests` (`source_id`,`received_at`,`id`);--> statement-breakpoint
CREATE INDEX `source_requests_received` ON `source_requests` (`received_at`);--> statement-breakpoint
CREATE TABLE `sources` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`name` text NOT NULL,
	`event_type` text NOT NULL,
	`verification` text,
	`secret_enc` text,
	`secret_last4` text,
	`mapping` text,
	`dedupe` text,
	`response` text,
	`rate_limit` integer NOT NULL,
	`is_enabled` integer NOT NULL,
	`token_hash` text NOT NULL,
	`previous_token_hash` text,
	`previous_token_expires_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`deleted_at` integer
);
--> statement-breakpoint
CREATE INDEX `sources_tenant_created` ON `sources` (`tenant_id`,`created_at`,`id`);--> statement-breakpoint
CREATE UNIQUE INDEX `sources_tenant_name_live` ON `sources` (`tenant_id`,`name`) WHERE deleted_at IS NULL;--> statement-breakpoint
ALTER TABLE `webhooks` ADD `headers_enc` text;--> statement-breakpoint
ALTER TABLE `webhooks` ADD `header_hints` text;