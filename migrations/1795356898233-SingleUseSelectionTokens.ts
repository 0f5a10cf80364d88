import type { MigrationInterface, QueryRunner } from 'typeorm';

export class SingleUseSelectionTokens1795356898233 implements MigrationInterface {
  name = 'SingleUseSelectionTokens1795356898233';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "spent_selection_tokens" ("jti" uuid NOT NULL, "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "pk_spent_selection_tokens" PRIMARY KEY ("jti"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_spent_selection_tokens_expires_at" ON "spent_selection_tokens" ("expires_at")`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."idx_spent_selection_tokens_expires_at"`);
    await queryRunner.query(`DROP TABLE "spent_selection_tokens"`);
  }
}
