CREATE TABLE `branding` (
	`id` text PRIMARY KEY NOT NULL,
	`product_name` text NOT NULL,
	`header_prefix` text,
	`user_agent` text,
	`problem_type_base` text,
	`accent_color` text,
	`logo_type` text,
	`logo_base64` text,
	`support_url` text,
	`docs_url` text,
	`updated_at` integer NOT NULL
);
