import type { FieldErrors } from './app.exception';

/** The one error shape of API.md. */
export interface ErrorBody {
  status_code: number;
  code: string;
  detail: string;
  errors?: FieldErrors;
  request_id: string;
}
