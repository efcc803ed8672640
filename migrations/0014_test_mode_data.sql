ALTER TABLE `webhooks` ADD `mode` text DEFAULT 'live' NOT NULL;--> statement-breakpoint
ALTER TABLE `webhooks` ADD `modes` text;--> statement-breakpoint
ALTER TABLE `sources` ADD `mode` text DEFAULT 'live' NOT NULL;--> statement-breakpoint
ALTER TABLE `replays` ADD `mode` text DEFAULT 'live' NOT NULL;--> statement-breakpoint
DROP INDEX IF EXISTS `webhooks_tenant_created`;--> statement-breakpoint
CREATE INDEX `webhooks_tenant_mode_created` ON `webhooks` (`tenant_id`,`mode`,`created_at`,`id`);--> statement-breakpoint
DROP INDEX IF EXISTS `sources_tenant_created`;--> statement-breakpoint
CREATE INDEX `sources_tenant_mode_created` ON `sources` (`tenant_id`,`mode`,`created_at`,`id`);--> statement-breakpoint
DROP INDEX IF EXISTS `sources_tenant_name_live`;--> statement-breakpoint
CREATE UNIQUE INDEX `sources_tenant_mode_name_live` ON `sources` (`tenant_id`,`mode`,`name`) WHERE deleted_at IS NULL;--> statement-breakpoint
DROP INDEX IF EXISTS `replays_tenant_created`;--> statement-breakpoint
CREATE INDEX `replays_tenant_mode_created` ON `replays` (`tenant_id`,`mode`,`created_at`,`id`);
