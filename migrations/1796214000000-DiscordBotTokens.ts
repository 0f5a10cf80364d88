import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Discord integration (issue 7): event-scoped bot tokens, stored as hashes; accounts created by the bot have a Discord
 * id and no email (every account keeps one or the other).
 */
export class DiscordBotTokens1796214000000 implements MigrationInterface {
  name = 'DiscordBotTokens1796214000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "discord_bot_tokens" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "event_id" uuid NOT NULL, "name" character varying(100) NOT NULL, "token_hash" character(64) NOT NULL, "channel_ids" text array NOT NULL DEFAULT '{}', "created_by_id" uuid, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "revoked_at" TIMESTAMP WITH TIME ZONE, "last_used_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "pk_discord_bot_tokens" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_discord_bot_tokens_token_hash" ON "discord_bot_tokens" ("token_hash")`,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_discord_bot_tokens_event_id_created_at" ON "discord_bot_tokens" ("event_id", "created_at")`,
    );
    await queryRunner.query(`ALTER TABLE "users" ALTER COLUMN "email" DROP NOT NULL`);
    await queryRunner.query(
      `ALTER TABLE "users" ADD CONSTRAINT "chk_users_email_or_discord" CHECK ("email" IS NOT NULL OR "discord_user_id" IS NOT NULL)`,
    );
    await queryRunner.query(
      `ALTER TABLE "discord_bot_tokens" ADD CONSTRAINT "fk_discord_bot_tokens_event_id" FOREIGN KEY ("event_id") REFERENCES "events"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "discord_bot_tokens" ADD CONSTRAINT "fk_discord_bot_tokens_created_by_id" FOREIGN KEY ("created_by_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "discord_bot_tokens" DROP CONSTRAINT "fk_discord_bot_tokens_created_by_id"`);
    await queryRunner.query(`ALTER TABLE "discord_bot_tokens" DROP CONSTRAINT "fk_discord_bot_tokens_event_id"`);
    await queryRunner.query(`ALTER TABLE "users" DROP CONSTRAINT "chk_users_email_or_discord"`);
    // Discord-only accounts get a placeholder address that can never receive mail (.invalid), rather than being lost.
    await queryRunner.query(
      `UPDATE "users" SET "email" = 'discord-' || "discord_user_id" || '@discord.invalid' WHERE "email" IS NULL`,
    );
    await queryRunner.query(`ALTER TABLE "users" ALTER COLUMN "email" SET NOT NULL`);
    await queryRunner.query(`DROP INDEX "public"."idx_discord_bot_tokens_event_id_created_at"`);
    await queryRunner.query(`DROP INDEX "public"."uq_discord_bot_tokens_token_hash"`);
    await queryRunner.query(`DROP TABLE "discord_bot_tokens"`);
  }
}
