import { Body, Controller, Post } from '@nestjs/common';
import { ApiPropertyOptional, DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Test } from '@nestjs/testing';
import { plainToInstance } from 'class-transformer';
import { IsOptional, IsString, validateSync } from 'class-validator';

import { TextLength } from './text-length.decorator';

class Sample {
  @ApiPropertyOptional({ type: String, description: 'kept' })
  @IsOptional()
  @IsString()
  @TextLength({ min: 2, max: 5 })
  name?: string;
}

@Controller()
class SampleController {
  @Post()
  create(@Body() _body: Sample): void {}
}

const errors = (name: unknown) => validateSync(plainToInstance(Sample, { name })).flatMap((e) => Object.values(e.constraints ?? {}));

describe('@TextLength', () => {
  it('documents exactly the limits it enforces, merged with the other @ApiProperty options', async () => {
    const module = await Test.createTestingModule({ controllers: [SampleController] }).compile();
    const app = module.createNestApplication({ logger: false });
    const document = SwaggerModule.createDocument(app, new DocumentBuilder().build());
    await app.close();
    expect(document.components?.schemas?.Sample).toEqual({
      type: 'object',
      properties: { name: { type: 'string', description: 'kept', minLength: 2, maxLength: 5 } },
    });
  });

  it('counts characters as JSON Schema does: an emoji is one, so the documented maximum is accepted', () => {
    expect(errors('😀😀😀😀😀')).toEqual([]);
    expect(errors('ab')).toEqual([]);
  });

  it('refuses one character under the minimum and one over the maximum, with the limits in the message', () => {
    expect(errors('😀')).toEqual(['name must be 2 to 5 characters long']);
    expect(errors('abcdef')).toEqual(['name must be 2 to 5 characters long']);
    expect(errors('😀😀😀😀😀😀')).toEqual(['name must be 2 to 5 characters long']);
  });
});
