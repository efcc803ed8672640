CREATE TABLE `replays` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`webhook_id` text NOT NULL,
	`state` text NOT NULL,
	`statuses` text NOT NULL,
	`event_types` text,
	`since` integer NOT NULL,
	`until` integer,
	`matched` integer NOT NULL,
	`sent` integer NOT NULL,
	`succeeded` integer NOT NULL,
	`failed` integer NOT NULL,
	`created_by` text NOT NULL,
	`created_at` integer NOT NULL,
	`finished_at` integer
);
--> statement-breakpoint
CREATE INDEX `replays_tenant_created` ON `replays` (`tenant_id`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `replays_webhook_created` ON `replays` (`webhook_id`,`created_at`,`id`);--> statement-breakpoint
ALTER TABLE `sources` ADD `ordering_key` text;--> statement-breakpoint
ALTER TABLE `webhooks` ADD `ordering` text DEFAULT 'none' NOT NULL;