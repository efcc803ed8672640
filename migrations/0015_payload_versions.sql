CREATE TABLE `event_type_versions` (
	`tenant_id` text NOT NULL,
	`type_name` text NOT NULL,
	`version` text NOT NULL,
	`schema` text,
	`downgrade` text,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`tenant_id`, `type_name`, `version`)
);
--> statement-breakpoint
ALTER TABLE `event_types` ADD `latest_version` text;--> statement-breakpoint
ALTER TABLE `webhooks` ADD `version` text;
