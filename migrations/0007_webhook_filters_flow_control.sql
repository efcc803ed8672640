ALTER TABLE `webhooks` ADD `filter` text;--> statement-breakpoint
ALTER TABLE `webhooks` ADD `rate_limit` integer;--> statement-breakpoint
ALTER TABLE `webhooks` ADD `max_concurrency` integer;