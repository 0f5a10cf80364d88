import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsOptional, IsString } from 'class-validator';
import { Length } from '../../../common/http/validators';
import { ListQueryDto } from '../../../common/pagination/pagination';
import { ANSWER_MAX, QUESTION_MAX, QUESTION_STATUSES, type QuestionStatus } from '../entities/question.entity';

const trimmed = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

export class AskQuestionDto {
  @ApiProperty({ maxLength: QUESTION_MAX, description: 'Plain text' })
  @Transform(trimmed)
  @IsString()
  @Length(1, QUESTION_MAX)
  question_text: string;

  @ApiPropertyOptional({ default: false, description: 'Hide the name from the audience (not from moderators)' })
  @IsOptional()
  @IsBoolean()
  is_anonymous?: boolean;
}

/** Moderation: `answered` is reached through `answer/`. */
export const MODERATION_STATUSES = ['pending', 'approved', 'hidden'] as const;

export class ModerateQuestionDto {
  @ApiProperty({ enum: MODERATION_STATUSES })
  @IsIn(MODERATION_STATUSES)
  status: (typeof MODERATION_STATUSES)[number];
}

export class AnswerQuestionDto {
  @ApiProperty({ maxLength: ANSWER_MAX })
  @Transform(trimmed)
  @IsString()
  @Length(1, ANSWER_MAX)
  answer_text: string;
}

export class QuestionListQueryDto extends ListQueryDto {}

export class QuestionDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) session: string;
  @ApiProperty() question_text: string;
  @ApiProperty() is_anonymous: boolean;
  @ApiProperty({ nullable: true, description: 'null when anonymous (moderators always see it)' })
  asked_by_name: string | null;
  @ApiProperty({ enum: QUESTION_STATUSES }) status: QuestionStatus;
  @ApiProperty() upvotes: number;
  @ApiPropertyOptional({ description: 'Absent in socket messages (they go to many people)' }) has_upvoted?: boolean;
  @ApiProperty({ nullable: true }) answer_text: string | null;
  @ApiProperty({ nullable: true }) answered_by_name: string | null;
  @ApiProperty({ type: String, format: 'date-time' }) asked_at: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) answered_at: string | null;
}
