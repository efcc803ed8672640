CREATE TABLE `gateway_config` (
	`id` text PRIMARY KEY NOT NULL,
	`origin` text NOT NULL,
	`hosts` text NOT NULL,
	`routes` text NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `product_scopes` (
	`name` text PRIMARY KEY NOT NULL,
	`description` text,
	`position` integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE `webhooks` ADD `tenant_ids` text;--> statement-breakpoint
CREATE INDEX `event_types_name` ON `event_types` (`name`);