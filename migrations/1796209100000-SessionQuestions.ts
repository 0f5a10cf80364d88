import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Session Q&A: questions with moderation status and answers, one upvote per user (issue 6). */
export class SessionQuestions1796209100000 implements MigrationInterface {
  name = 'SessionQuestions1796209100000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "questions" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "event_id" uuid NOT NULL, "session_id" uuid NOT NULL, "asked_by_id" uuid, "question_text" character varying(1000) NOT NULL, "is_anonymous" boolean NOT NULL DEFAULT false, "status" character varying(10) NOT NULL, "upvotes" integer NOT NULL DEFAULT '0', "answer_text" text, "answered_by_id" uuid, "answered_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "chk_questions_upvotes" CHECK ("upvotes" >= 0), CONSTRAINT "chk_questions_status" CHECK ("status" IN ('pending', 'approved', 'answered', 'hidden')), CONSTRAINT "pk_questions" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_questions_event_id_asked_by_id_created_at" ON "questions" ("event_id", "asked_by_id", "created_at")`,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_questions_event_id_session_id" ON "questions" ("event_id", "session_id")`,
    );
    await queryRunner.query(
      `CREATE TABLE "question_upvotes" ("question_id" uuid NOT NULL, "user_id" uuid NOT NULL, "event_id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "pk_question_upvotes" PRIMARY KEY ("question_id", "user_id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_question_upvotes_event_id_user_id" ON "question_upvotes" ("event_id", "user_id")`,
    );
    await queryRunner.query(
      `ALTER TABLE "questions" ADD CONSTRAINT "fk_questions_event_id" FOREIGN KEY ("event_id") REFERENCES "events"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "questions" ADD CONSTRAINT "fk_questions_session_id" FOREIGN KEY ("session_id") REFERENCES "sessions"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "questions" ADD CONSTRAINT "fk_questions_asked_by_id" FOREIGN KEY ("asked_by_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "questions" ADD CONSTRAINT "fk_questions_answered_by_id" FOREIGN KEY ("answered_by_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "question_upvotes" ADD CONSTRAINT "fk_question_upvotes_question_id" FOREIGN KEY ("question_id") REFERENCES "questions"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "question_upvotes" ADD CONSTRAINT "fk_question_upvotes_user_id" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "question_upvotes" DROP CONSTRAINT "fk_question_upvotes_user_id"`);
    await queryRunner.query(`ALTER TABLE "question_upvotes" DROP CONSTRAINT "fk_question_upvotes_question_id"`);
    await queryRunner.query(`ALTER TABLE "questions" DROP CONSTRAINT "fk_questions_answered_by_id"`);
    await queryRunner.query(`ALTER TABLE "questions" DROP CONSTRAINT "fk_questions_asked_by_id"`);
    await queryRunner.query(`ALTER TABLE "questions" DROP CONSTRAINT "fk_questions_session_id"`);
    await queryRunner.query(`ALTER TABLE "questions" DROP CONSTRAINT "fk_questions_event_id"`);
    await queryRunner.query(`DROP INDEX "public"."idx_question_upvotes_event_id_user_id"`);
    await queryRunner.query(`DROP TABLE "question_upvotes"`);
    await queryRunner.query(`DROP INDEX "public"."idx_questions_event_id_session_id"`);
    await queryRunner.query(`DROP INDEX "public"."idx_questions_event_id_asked_by_id_created_at"`);
    await queryRunner.query(`DROP TABLE "questions"`);
  }
}
