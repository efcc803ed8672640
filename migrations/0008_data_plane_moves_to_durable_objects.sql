DROP TABLE `deliveries`;--> statement-breakpoint
DROP TABLE `delivery_attempts`;--> statement-breakpoint
DROP TABLE `events`;--> statement-breakpoint
DROP TABLE `idempotency_keys`;--> statement-breakpoint
DROP TABLE `source_requests`;--> statement-breakpoint
ALTER TABLE `tenants` ADD `data_shards` integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE `tenants` ADD `max_data_shards` integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE `tenants` ADD `shard_history` text;