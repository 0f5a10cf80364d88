import type { MigrationInterface, QueryRunner } from 'typeorm';

/** One-time codes that link a Discord account to an existing MakePlus account (`!link`, issue 7). */
export class DiscordLinkCodes1796216000000 implements MigrationInterface {
  name = 'DiscordLinkCodes1796216000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "users" ADD "discord_link_code_hash" character varying(64)`);
    await queryRunner.query(`ALTER TABLE "users" ADD "discord_link_expires_at" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_users_discord_link_code_hash" ON "users" ("discord_link_code_hash") WHERE "discord_link_code_hash" IS NOT NULL`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."uq_users_discord_link_code_hash"`);
    await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "discord_link_expires_at"`);
    await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "discord_link_code_hash"`);
  }
}
