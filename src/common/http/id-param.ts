import { Param, ParseUUIDPipe } from '@nestjs/common';
import { validationFailed } from '../errors/app.exception';

/** A UUID path parameter; anything else is a 400 VALIDATION_FAILED naming the parameter. */
export const IdParam = (name = 'id') =>
  Param(
    name,
    new ParseUUIDPipe({
      exceptionFactory: () => validationFailed({ [name]: ['Must be a UUID'] }, `Malformed ${name}`),
    }),
  );
