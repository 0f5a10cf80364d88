import type { MigrationInterface, QueryRunner } from 'typeorm';

export class InitialSchema1795354805637 implements MigrationInterface {
  name = 'InitialSchema1795354805637';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "users" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "email" character varying(254) NOT NULL, "password_hash" text, "first_name" character varying(150) NOT NULL DEFAULT '', "last_name" character varying(150) NOT NULL DEFAULT '', "is_staff" boolean NOT NULL DEFAULT false, "is_active" boolean NOT NULL DEFAULT true, "discord_user_id" character varying(32), "discord_username" character varying(100), CONSTRAINT "chk_users_email_lowercase" CHECK ("email" = lower("email")), CONSTRAINT "pk_users" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_users_email" ON "users" ("email")`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_users_discord_user_id" ON "users" ("discord_user_id") WHERE "discord_user_id" IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE TABLE "events" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "name" character varying(200) NOT NULL, "description" text NOT NULL DEFAULT '', "start_date" TIMESTAMP WITH TIME ZONE NOT NULL, "end_date" TIMESTAMP WITH TIME ZONE NOT NULL, "location" character varying(255) NOT NULL DEFAULT '', "location_details" text NOT NULL DEFAULT '', "organizer_contact" character varying(255) NOT NULL DEFAULT '', "capacity" integer, "registration_open" boolean NOT NULL DEFAULT false, "is_cancelled" boolean NOT NULL DEFAULT false, "currency" character varying(3) NOT NULL DEFAULT 'DZD', "settings" jsonb NOT NULL DEFAULT '{}'::jsonb, "themes" jsonb NOT NULL DEFAULT '[]'::jsonb, "metadata" jsonb NOT NULL DEFAULT '{}'::jsonb, "logo_file" character varying(255), "banner_file" character varying(255), "programme_file" character varying(255), "guide_file" character varying(255), "president_id" uuid, "created_by_id" uuid, CONSTRAINT "chk_events_capacity" CHECK ("capacity" IS NULL OR "capacity" > 0), CONSTRAINT "chk_events_dates" CHECK ("end_date" > "start_date"), CONSTRAINT "pk_events" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "idx_events_start_date" ON "events" ("start_date")`);
    await queryRunner.query(
      `CREATE TABLE "user_event_assignments" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "event_id" uuid NOT NULL, "user_id" uuid NOT NULL, "role" character varying(32) NOT NULL, "is_active" boolean NOT NULL DEFAULT true, "assigned_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "assigned_by_id" uuid, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "chk_assignments_role" CHECK ("role" IN ('organisateur', 'gestionnaire_des_salles', 'controlleur_des_badges', 'exposant', 'participant')), CONSTRAINT "pk_user_event_assignments" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_assignments_event_id_role" ON "user_event_assignments" ("event_id", "role")`,
    );
    await queryRunner.query(`CREATE INDEX "idx_assignments_user_id" ON "user_event_assignments" ("user_id")`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_assignments_event_user" ON "user_event_assignments" ("event_id", "user_id")`,
    );
    await queryRunner.query(
      `CREATE TABLE "auth_sessions" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "user_id" uuid NOT NULL, "event_id" uuid, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "revoked_at" TIMESTAMP WITH TIME ZONE, "revoked_reason" character varying(32), "user_agent" character varying(255), CONSTRAINT "pk_auth_sessions" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "idx_auth_sessions_user_id" ON "auth_sessions" ("user_id")`);
    await queryRunner.query(
      `CREATE TABLE "refresh_tokens" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "session_id" uuid NOT NULL, "token_hash" character(64) NOT NULL, "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "used_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "pk_refresh_tokens" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "idx_refresh_tokens_session_id" ON "refresh_tokens" ("session_id")`);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_refresh_tokens_token_hash" ON "refresh_tokens" ("token_hash")`);
    await queryRunner.query(
      `ALTER TABLE "events" ADD CONSTRAINT "fk_events_president_id" FOREIGN KEY ("president_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "events" ADD CONSTRAINT "fk_events_created_by_id" FOREIGN KEY ("created_by_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "user_event_assignments" ADD CONSTRAINT "fk_user_event_assignments_event_id" FOREIGN KEY ("event_id") REFERENCES "events"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "user_event_assignments" ADD CONSTRAINT "fk_user_event_assignments_user_id" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "user_event_assignments" ADD CONSTRAINT "fk_user_event_assignments_assigned_by_id" FOREIGN KEY ("assigned_by_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "auth_sessions" ADD CONSTRAINT "fk_auth_sessions_user_id" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "auth_sessions" ADD CONSTRAINT "fk_auth_sessions_event_id" FOREIGN KEY ("event_id") REFERENCES "events"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "refresh_tokens" ADD CONSTRAINT "fk_refresh_tokens_session_id" FOREIGN KEY ("session_id") REFERENCES "auth_sessions"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "refresh_tokens" DROP CONSTRAINT "fk_refresh_tokens_session_id"`);
    await queryRunner.query(`ALTER TABLE "auth_sessions" DROP CONSTRAINT "fk_auth_sessions_event_id"`);
    await queryRunner.query(`ALTER TABLE "auth_sessions" DROP CONSTRAINT "fk_auth_sessions_user_id"`);
    await queryRunner.query(
      `ALTER TABLE "user_event_assignments" DROP CONSTRAINT "fk_user_event_assignments_assigned_by_id"`,
    );
    await queryRunner.query(`ALTER TABLE "user_event_assignments" DROP CONSTRAINT "fk_user_event_assignments_user_id"`);
    await queryRunner.query(
      `ALTER TABLE "user_event_assignments" DROP CONSTRAINT "fk_user_event_assignments_event_id"`,
    );
    await queryRunner.query(`ALTER TABLE "events" DROP CONSTRAINT "fk_events_created_by_id"`);
    await queryRunner.query(`ALTER TABLE "events" DROP CONSTRAINT "fk_events_president_id"`);
    await queryRunner.query(`DROP INDEX "public"."uq_refresh_tokens_token_hash"`);
    await queryRunner.query(`DROP INDEX "public"."idx_refresh_tokens_session_id"`);
    await queryRunner.query(`DROP TABLE "refresh_tokens"`);
    await queryRunner.query(`DROP INDEX "public"."idx_auth_sessions_user_id"`);
    await queryRunner.query(`DROP TABLE "auth_sessions"`);
    await queryRunner.query(`DROP INDEX "public"."uq_assignments_event_user"`);
    await queryRunner.query(`DROP INDEX "public"."idx_assignments_user_id"`);
    await queryRunner.query(`DROP INDEX "public"."idx_assignments_event_id_role"`);
    await queryRunner.query(`DROP TABLE "user_event_assignments"`);
    await queryRunner.query(`DROP INDEX "public"."idx_events_start_date"`);
    await queryRunner.query(`DROP TABLE "events"`);
    await queryRunner.query(`DROP INDEX "public"."uq_users_discord_user_id"`);
    await queryRunner.query(`DROP INDEX "public"."uq_users_email"`);
    await queryRunner.query(`DROP TABLE "users"`);
  }
}
