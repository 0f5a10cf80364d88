import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Announcements with role targets, room/session narrowing, scheduled publication and read receipts (issue 6). */
export class Annonces1796209000000 implements MigrationInterface {
  name = 'Annonces1796209000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "annonces" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "event_id" uuid NOT NULL, "title" character varying(200) NOT NULL, "description" text NOT NULL DEFAULT '', "target" character varying(16) NOT NULL DEFAULT 'all', "target_rooms" uuid array NOT NULL DEFAULT '{}', "target_sessions" uuid array NOT NULL DEFAULT '{}', "publish_at" TIMESTAMP WITH TIME ZONE NOT NULL, "published_at" TIMESTAMP WITH TIME ZONE, "recipients" uuid array, "created_by_id" uuid, CONSTRAINT "chk_annonces_target" CHECK ("target" IN ('all', 'participants', 'exposants', 'controlleurs', 'gestionnaires', 'organisateurs')), CONSTRAINT "pk_annonces" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_annonces_due" ON "annonces" ("publish_at") WHERE "published_at" IS NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_annonces_event_id_published_at" ON "annonces" ("event_id", "published_at")`,
    );
    await queryRunner.query(
      `CREATE TABLE "annonce_reads" ("annonce_id" uuid NOT NULL, "user_id" uuid NOT NULL, "event_id" uuid NOT NULL, "read_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "pk_annonce_reads" PRIMARY KEY ("annonce_id", "user_id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_annonce_reads_event_id_user_id" ON "annonce_reads" ("event_id", "user_id")`,
    );
    await queryRunner.query(
      `ALTER TABLE "annonces" ADD CONSTRAINT "fk_annonces_event_id" FOREIGN KEY ("event_id") REFERENCES "events"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "annonces" ADD CONSTRAINT "fk_annonces_created_by_id" FOREIGN KEY ("created_by_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "annonce_reads" ADD CONSTRAINT "fk_annonce_reads_annonce_id" FOREIGN KEY ("annonce_id") REFERENCES "annonces"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "annonce_reads" ADD CONSTRAINT "fk_annonce_reads_user_id" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "annonce_reads" DROP CONSTRAINT "fk_annonce_reads_user_id"`);
    await queryRunner.query(`ALTER TABLE "annonce_reads" DROP CONSTRAINT "fk_annonce_reads_annonce_id"`);
    await queryRunner.query(`ALTER TABLE "annonces" DROP CONSTRAINT "fk_annonces_created_by_id"`);
    await queryRunner.query(`ALTER TABLE "annonces" DROP CONSTRAINT "fk_annonces_event_id"`);
    await queryRunner.query(`DROP INDEX "public"."idx_annonce_reads_event_id_user_id"`);
    await queryRunner.query(`DROP TABLE "annonce_reads"`);
    await queryRunner.query(`DROP INDEX "public"."idx_annonces_event_id_published_at"`);
    await queryRunner.query(`DROP INDEX "public"."idx_annonces_due"`);
    await queryRunner.query(`DROP TABLE "annonces"`);
  }
}
