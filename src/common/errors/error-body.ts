import type { FieldErrors } from './app.exception';

/** The one error shape of API.md. */
export interface ErrorBody {
  status_code: number;
  code: string;
  detail: string;
  errors?: FieldErrors;
  request_id: string;
  /** A few codes carry figures beside them (`seconds_until_start` with EVENT_NOT_STARTED...). */
  [figure: string]: unknown;
}
